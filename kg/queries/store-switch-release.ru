# Make a catalog release current in one request (its manifest replaced when it is pushed again).
# Plain operations only: Virtuoso finds no solution for a WHERE made of OPTIONALs alone.
DELETE WHERE { GRAPH <https://w3id.org/threatkg/graph/registry> {
  <https://w3id.org/threatkg/graph/registry> tm:currentRelease ?old } } ;
DELETE WHERE { GRAPH <https://w3id.org/threatkg/graph/registry> { $release tm:manifest ?manifest } } ;
DELETE WHERE { GRAPH <https://w3id.org/threatkg/graph/registry> { $release tm:unionGraph ?union } } ;
INSERT DATA { GRAPH <https://w3id.org/threatkg/graph/registry> {
  <https://w3id.org/threatkg/graph/registry> tm:currentRelease $release .
  $release a tm:CatalogRelease ; dcterms:identifier $id ; tm:manifest $newManifest ; tm:unionGraph $union } }
