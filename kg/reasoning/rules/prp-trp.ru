# prp-trp (OWL 2 RL, Table 5): transitive properties.
# phase: instance
# order: 40
# handles: owl:TransitiveProperty
INSERT { ?x ?p ?z } WHERE {
  ?p a owl:TransitiveProperty .
  ?x ?p ?y .
  ?y ?p ?z .
}
