# cls-oo (OWL 2 RL, Table 6): the members of an enumeration are its instances.
# phase: instance
# order: 80
# handles: owl:oneOf
INSERT { ?x a ?c } WHERE {
  ?c owl:oneOf ?l .
  ?l rdf:rest*/rdf:first ?x .
}
