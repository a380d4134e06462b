# prp-inv1, prp-inv2 (OWL 2 RL, Table 5): inverse properties.
# phase: instance
# order: 20
# handles: owl:inverseOf
INSERT { ?y ?p2 ?x } WHERE {
  ?p1 owl:inverseOf ?p2 .
  ?x ?p1 ?y .
  FILTER(!isLiteral(?y))
} ;
INSERT { ?y ?p1 ?x } WHERE {
  ?p1 owl:inverseOf ?p2 .
  ?x ?p2 ?y .
  FILTER(!isLiteral(?y))
}
