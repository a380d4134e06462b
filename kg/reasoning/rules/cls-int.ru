# cls-int1, cls-int2 (OWL 2 RL, Table 6): intersections.
# phase: instance
# order: 120
# handles: owl:intersectionOf
INSERT { ?x a ?c } WHERE {
  ?c owl:intersectionOf ?l . ?l rdf:first ?first . ?x a ?first .
  FILTER NOT EXISTS { ?l rdf:rest*/rdf:first ?m . FILTER NOT EXISTS { ?x a ?m } } } ;
INSERT { ?x a ?m } WHERE { ?c owl:intersectionOf ?l . ?l rdf:rest*/rdf:first ?m . ?x a ?c }
