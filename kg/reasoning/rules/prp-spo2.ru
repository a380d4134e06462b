# prp-spo2 (OWL 2 RL, Table 5): property chains of length 2 and 3 (longer ones: see constructs.py).
# phase: instance
# order: 50
# handles: owl:propertyChainAxiom
INSERT { ?x ?p ?z } WHERE {
  ?p owl:propertyChainAxiom ?l .
  ?l rdf:first ?p1 .
  ?l rdf:rest ?l2 .
  ?l2 rdf:first ?p2 .
  ?l2 rdf:rest rdf:nil .
  ?x ?p1 ?y .
  ?y ?p2 ?z .
} ;
INSERT { ?x ?p ?z } WHERE {
  ?p owl:propertyChainAxiom ?l .
  ?l rdf:first ?p1 .
  ?l rdf:rest ?l2 .
  ?l2 rdf:first ?p2 .
  ?l2 rdf:rest ?l3 .
  ?l3 rdf:first ?p3 .
  ?l3 rdf:rest rdf:nil .
  ?x ?p1 ?y1 .
  ?y1 ?p2 ?y2 .
  ?y2 ?p3 ?z .
}
