# prp-symp (OWL 2 RL, Table 5): symmetric properties.
# phase: instance
# order: 30
# handles: owl:SymmetricProperty
INSERT { ?y ?p ?x } WHERE {
  ?p a owl:SymmetricProperty .
  ?x ?p ?y .
  FILTER(!isLiteral(?y))
}
