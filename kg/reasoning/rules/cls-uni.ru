# cls-uni (OWL 2 RL, Table 6): an instance of a union member is an instance of the union.
# phase: instance
# order: 90
# handles: owl:unionOf
INSERT { ?x a ?c } WHERE {
  ?c owl:unionOf ?l .
  ?l rdf:rest*/rdf:first ?m .
  ?x a ?m .
}
