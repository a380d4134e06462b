# A flow whose two ends sit in different zones crosses the trust boundary between them.
# (A difference of zones needs inequality, which OWL 2 RL cannot state: this step runs before
# reasoning, for both engines. A bidirectional flow crosses in both directions.)
# The inner SELECT pairs each flow's zones first, so the work grows with the number of flows.
INSERT {
  ?flow tm:crosses ?boundary .
  ?boundary a tm:TrustBoundary ; tm:fromZone ?z1 ; tm:toZone ?z2 ; tm:partOf ?system ;
            rdfs:label ?label ; dcterms:identifier ?id .
}
WHERE {
  { SELECT DISTINCT ?flow ?z1 ?z2 WHERE {
      { ?flow tm:source/tm:inZone ?z1 ; tm:target/tm:inZone ?z2 }
      UNION { ?flow tm:bidirectional true ; tm:target/tm:inZone ?z1 ; tm:source/tm:inZone ?z2 }
      FILTER(?z1 != ?z2) } }
  ?z1 dcterms:identifier ?id1 ; tm:partOf ?system . ?z2 dcterms:identifier ?id2 .
  BIND(CONCAT("the ", ?id1, " → ", ?id2, " boundary") AS ?label)
  BIND(?label AS ?id)
  BIND(IRI(CONCAT(STR(?system), "/boundary:", ?id1, "--", ?id2)) AS ?boundary)
}
