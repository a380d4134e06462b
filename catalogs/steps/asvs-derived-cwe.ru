# ASVS 5.0.0 -> CWE, derived: the v5.0.be CWE mapping joined with the be -> 5.0.0 id mapping (the
# asvs importer's inputs: [] tm:addressesWeakness ?cwe ; tm:correspondsTo "v5.0.0-..."), for the
# 5.0.0 requirements that exist.
INSERT { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
  [] tm:linkGraph ?g ; tm:linkSubject ?requirement ; tm:linkProperty tm:addressesWeakness ;
     tm:linkTarget ?cwe ; tm:linkProvenance "derived" ; tm:sourceVersion ?version ;
     dcterms:source "OWASP ASVS v5.0.be_cwe_mapping.json + mapping_v5.0.be_to_v5.0.0.yml" ;
     tm:method "v5.0.be CWE mapping joined with be→5.0.0 id mapping" } }
WHERE {
  GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
    ?be tm:addressesWeakness ?cwe ; tm:correspondsTo ?id .
    ?g tm:catalog "asvs" ; tm:sourceVersion ?version }
  GRAPH ?g { ?requirement a tm:AsvsRequirement ; dcterms:identifier ?id }
}
