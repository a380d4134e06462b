# A flow whose two ends sit in different zones crosses the trust boundary between them.
# (A difference of zones needs inequality, which OWL 2 RL cannot state: this step runs before
# reasoning, for both engines. A bidirectional flow crosses in both directions.)
INSERT {
  ?flow tm:crosses ?boundary .
  ?boundary a tm:TrustBoundary ; tm:fromZone ?z1 ; tm:toZone ?z2 ; tm:partOf ?system ;
            rdfs:label ?label ; dcterms:identifier ?id .
}
WHERE {
  { ?flow tm:source ?a ; tm:target ?b . ?a tm:inZone ?z1 . ?b tm:inZone ?z2 }
  UNION { ?flow tm:bidirectional true ; tm:source ?b ; tm:target ?a . ?a tm:inZone ?z1 . ?b tm:inZone ?z2 }
  FILTER(?z1 != ?z2)
  ?z1 dcterms:identifier ?id1 ; tm:partOf ?system . ?z2 dcterms:identifier ?id2 .
  BIND(CONCAT("the ", ?id1, " → ", ?id2, " boundary") AS ?label)
  BIND(?label AS ?id)
  BIND(IRI(CONCAT(STR(?system), "/boundary:", ?id1, "--", ?id2)) AS ?boundary)
}
