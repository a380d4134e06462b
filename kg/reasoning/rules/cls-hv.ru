# cls-hv1, cls-hv2 (OWL 2 RL, Table 6): hasValue restrictions, both directions.
# phase: instance
# order: 100
# handles: owl:hasValue owl:onProperty
INSERT { ?x ?p ?v } WHERE {
  ?r owl:hasValue ?v .
  ?r owl:onProperty ?p .
  ?x a ?r .
} ;
INSERT { ?x a ?r } WHERE {
  ?r owl:hasValue ?v .
  ?r owl:onProperty ?p .
  ?x ?p ?v .
}
