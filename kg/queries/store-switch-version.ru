# Make an uploaded version current in one update; the one it replaces stays readable as previous.
DELETE { GRAPH <https://w3id.org/threatkg/graph/registry> { $system tm:currentVersion ?current ; tm:previousVersion ?previous } }
INSERT { GRAPH <https://w3id.org/threatkg/graph/registry> {
  $system a tm:StoredSystem ; dcterms:identifier $id ; tm:currentVersion $version ; tm:previousVersion ?current .
  $version dcterms:issued $issued } }
WHERE {
  OPTIONAL { GRAPH <https://w3id.org/threatkg/graph/registry> { $system tm:currentVersion ?current } }
  OPTIONAL { GRAPH <https://w3id.org/threatkg/graph/registry> { $system tm:previousVersion ?previous } }
}
