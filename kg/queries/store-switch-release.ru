# Make a catalog release current in one update.
DELETE { GRAPH <https://w3id.org/threatkg/graph/registry> { <https://w3id.org/threatkg/graph/registry> tm:currentRelease ?old } }
INSERT { GRAPH <https://w3id.org/threatkg/graph/registry> {
  <https://w3id.org/threatkg/graph/registry> tm:currentRelease $release .
  $release a tm:CatalogRelease ; dcterms:identifier $id ; tm:manifest $manifest } }
WHERE { OPTIONAL { GRAPH <https://w3id.org/threatkg/graph/registry> { <https://w3id.org/threatkg/graph/registry> tm:currentRelease ?old } } }
