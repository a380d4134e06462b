# CAPEC -> STRIDE, third rule, for the active patterns the first two leave without: the consequence
# scopes of the related weaknesses (CAPEC Related_Weaknesses and CWE Related_Attack_Patterns) in
# the CWE graph; the method names the weakness. Nothing without a CWE graph.
INSERT { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
  [] tm:linkGraph ?g ; tm:linkSubject ?pattern ; tm:linkProperty tm:hasStride ; tm:linkTarget ?category ;
     tm:linkProvenance "derived" ; dcterms:source ?source ; tm:sourceVersion ?version ; tm:method ?method } }
WHERE {
  GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
    ?g tm:catalog "capec" .
    ?cwe tm:catalog "cwe" ; dcterms:source ?source ; tm:sourceVersion ?version }
  GRAPH ?g {
    ?pattern a tm:AttackPattern
    FILTER NOT EXISTS { ?pattern a tm:DeprecatedEntry } }
  FILTER NOT EXISTS { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
    { ?pattern tm:ownCategory ?own }
    UNION
    { ?step tm:pattern ?pattern ; tm:ancestor ?ancestor . ?ancestor tm:ownCategory ?inherited } } }
  { GRAPH ?g { ?pattern tm:relatedWeakness ?weakness } }
  UNION
  { GRAPH ?cwe { ?weakness tm:relatedAttackPattern ?pattern } }
  GRAPH ?cwe { ?weakness tm:consequenceScope ?scope }
  GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> { ?category tm:fromConsequenceScope ?scope }
  OPTIONAL { GRAPH ?cwe { ?weakness dcterms:identifier ?id } }
  BIND (CONCAT("related-weakness ", COALESCE(STR(?id), REPLACE(STR(?weakness), "^.*/", "")),
               " consequence-scope") AS ?method)
}
