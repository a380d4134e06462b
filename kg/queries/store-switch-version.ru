# Make an uploaded version current in one request; the one it replaces stays readable as previous.
DELETE WHERE { GRAPH <https://w3id.org/threatkg/graph/registry> { $system tm:previousVersion ?previous } } ;
DELETE { GRAPH <https://w3id.org/threatkg/graph/registry> { $system tm:currentVersion ?current } }
INSERT { GRAPH <https://w3id.org/threatkg/graph/registry> { $system tm:previousVersion ?current } }
WHERE { GRAPH <https://w3id.org/threatkg/graph/registry> { $system tm:currentVersion ?current } } ;
INSERT DATA { GRAPH <https://w3id.org/threatkg/graph/registry> {
  $system a tm:StoredSystem ; dcterms:identifier $id ; tm:currentVersion $version .
  $version dcterms:issued $issued } }
