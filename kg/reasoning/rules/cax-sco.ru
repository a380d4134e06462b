# cax-sco (OWL 2 RL, Table 7): an instance of a class is an instance of every superclass.
# phase: instance
# order: 110
# handles: rdfs:subClassOf
INSERT { ?x a ?c2 } WHERE {
  ?c1 rdfs:subClassOf ?c2 .
  ?x a ?c1 .
}
