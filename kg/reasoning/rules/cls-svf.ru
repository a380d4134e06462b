# cls-svf1, cls-svf2 (OWL 2 RL, Table 6): someValuesFrom restrictions on the subclass side.
# phase: instance
# order: 70
# handles: owl:someValuesFrom owl:onProperty
INSERT { ?x a ?r } WHERE {
  ?r owl:someValuesFrom ?c .
  ?r owl:onProperty ?p .
  ?x ?p ?y .
  ?y a ?c .
  FILTER(?c != owl:Thing)
} ;
INSERT { ?x a ?r } WHERE {
  ?r owl:someValuesFrom owl:Thing .
  ?r owl:onProperty ?p .
  ?x ?p ?y .
}
