# prp-spo1 (OWL 2 RL, Table 5): a statement with a property holds for its superproperties.
# phase: instance
# order: 10
# handles: rdfs:subPropertyOf
INSERT { ?x ?p2 ?y } WHERE {
  ?p1 rdfs:subPropertyOf ?p2 .
  ?x ?p1 ?y .
  FILTER(?p1 != ?p2)
}
