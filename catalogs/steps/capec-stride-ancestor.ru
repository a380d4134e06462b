# CAPEC -> STRIDE, second rule: the own categories of the nearest ancestors that have any
# (distances from capec-ancestor-distances.ru); the method names the ancestor.
INSERT { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
  [] tm:linkGraph ?g ; tm:linkSubject ?pattern ; tm:linkProperty tm:hasStride ; tm:linkTarget ?category ;
     tm:linkProvenance "derived" ; dcterms:source ?source ; tm:sourceVersion ?version ; tm:method ?method } }
WHERE {
  { SELECT ?pattern (MIN(?distance) AS ?nearest) WHERE {
      GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
        ?step tm:pattern ?pattern ; tm:ancestor ?ancestor ; tm:distance ?distance .
        ?ancestor tm:ownCategory ?category } }
    GROUP BY ?pattern }
  GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
    ?g tm:catalog "capec" ; dcterms:source ?source ; tm:sourceVersion ?version .
    ?step tm:pattern ?pattern ; tm:ancestor ?ancestor ; tm:distance ?nearest .
    ?ancestor tm:ownCategory ?category }
  OPTIONAL { GRAPH ?g { ?ancestor dcterms:identifier ?id } }
  BIND (CONCAT("ancestor ", COALESCE(STR(?id), REPLACE(STR(?ancestor), "^.*/", "")), " consequence-scope")
        AS ?method)
}
