# scm-spo, scm-eqp1, scm-eqp2 (OWL 2 RL, Table 9): subproperty and equivalent-property closure.
# phase: schema
# order: 150
# handles: rdfs:subPropertyOf owl:equivalentProperty
INSERT { ?p1 rdfs:subPropertyOf ?p3 } WHERE {
  ?p1 rdfs:subPropertyOf ?p2 .
  ?p2 rdfs:subPropertyOf ?p3 .
} ;
INSERT { ?p1 rdfs:subPropertyOf ?p2 . ?p2 rdfs:subPropertyOf ?p1 } WHERE {
  ?p1 owl:equivalentProperty ?p2 .
}
