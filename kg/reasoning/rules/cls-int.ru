# cls-int1, cls-int2 (OWL 2 RL, Table 6): intersections.
# phase: instance
# order: 120
# handles: owl:intersectionOf
# (cls-int1 starts from any member, ?some, so that it fires when the newest of the typings is any member's.)
INSERT { ?x a ?c } WHERE {
  ?c owl:intersectionOf ?l .
  ?l rdf:rest*/rdf:first ?some .
  ?x a ?some .
  FILTER NOT EXISTS { ?l rdf:rest*/rdf:first ?m . FILTER NOT EXISTS { ?x a ?m } }
} ;
INSERT { ?x a ?m } WHERE {
  ?c owl:intersectionOf ?l .
  ?l rdf:rest*/rdf:first ?m .
  ?x a ?c .
}
