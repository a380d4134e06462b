# prp-dom, prp-rng (OWL 2 RL, Table 5): domain and range typing.
# phase: instance
# order: 60
# handles: rdfs:domain rdfs:range
INSERT { ?x a ?c } WHERE {
  ?p rdfs:domain ?c .
  ?x ?p ?y .
} ;
INSERT { ?y a ?c } WHERE {
  ?p rdfs:range ?c .
  ?x ?p ?y .
  FILTER(!isLiteral(?y))
}
