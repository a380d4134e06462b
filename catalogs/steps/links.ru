# The link requests of the steps before, as CatalogGraph.link (kg/catalogs/rdfbuild.py) writes
# links: the triple in its graph, annotated by an owl:Axiom id:link/<sha1(s|p|o|provenance)[:20]>
# with its provenance, source, source version and method.
INSERT { GRAPH ?g {
  ?s ?p ?o .
  ?axiom a owl:Axiom ; owl:annotatedSource ?s ; owl:annotatedProperty ?p ; owl:annotatedTarget ?o ;
         tm:provenance ?class ; dcterms:source ?source ; tm:sourceVersion ?version ; tm:method ?method } }
WHERE {
  GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
    ?link tm:linkGraph ?g ; tm:linkSubject ?s ; tm:linkProperty ?p ; tm:linkTarget ?o ;
          tm:linkProvenance ?provenance ; dcterms:source ?source ; tm:sourceVersion ?version
    OPTIONAL { ?link tm:method ?method } }
  VALUES (?provenance ?class) { ("official" tm:Official) ("derived" tm:Derived) ("curated" tm:Curated) }
  BIND (IRI(CONCAT(STR(id:), "link/",
                   SUBSTR(SHA1(CONCAT(STR(?s), "|", STR(?p), "|", STR(?o), "|", ?provenance)), 1, 20))) AS ?axiom)
}
