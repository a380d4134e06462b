# cls-avf (OWL 2 RL, Table 6): allValuesFrom restrictions on the superclass side.
# phase: instance
# order: 130
# handles: owl:allValuesFrom owl:onProperty
INSERT { ?y a ?c } WHERE {
  ?r owl:allValuesFrom ?c .
  ?r owl:onProperty ?p .
  ?x a ?r .
  ?x ?p ?y .
  FILTER(!isLiteral(?y))
}
