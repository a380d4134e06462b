# scm-sco, scm-eqc1, scm-eqc2 (OWL 2 RL, Table 9): subclass and equivalent-class closure of the schema.
# phase: schema
# order: 140
# handles: rdfs:subClassOf owl:equivalentClass
INSERT { ?c1 rdfs:subClassOf ?c3 } WHERE {
  ?c1 rdfs:subClassOf ?c2 .
  ?c2 rdfs:subClassOf ?c3 .
} ;
INSERT { ?c1 rdfs:subClassOf ?c2 . ?c2 rdfs:subClassOf ?c1 } WHERE {
  ?c1 owl:equivalentClass ?c2 .
}
