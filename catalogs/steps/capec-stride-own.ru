# CAPEC -> STRIDE, derived (no official mapping exists). First each attack pattern's own categories,
# its consequence scopes through the scope -> STRIDE table (?pattern tm:ownCategory ?category in
# the scratch graph, read by the later CAPEC steps); then the first rule: an active pattern gets
# its own categories.
INSERT { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> { ?pattern tm:ownCategory ?category } }
WHERE {
  GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> { ?g tm:catalog "capec" }
  GRAPH ?g { ?pattern a tm:AttackPattern ; tm:consequenceScope ?scope }
  GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> { ?category tm:fromConsequenceScope ?scope }
} ;
INSERT { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
  [] tm:linkGraph ?g ; tm:linkSubject ?pattern ; tm:linkProperty tm:hasStride ; tm:linkTarget ?category ;
     tm:linkProvenance "derived" ; dcterms:source ?source ; tm:sourceVersion ?version ;
     tm:method "consequence-scope" } }
WHERE {
  GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
    ?g tm:catalog "capec" ; dcterms:source ?source ; tm:sourceVersion ?version .
    ?pattern tm:ownCategory ?category }
  FILTER NOT EXISTS { GRAPH ?g { ?pattern a tm:DeprecatedEntry } }
}
