# CoSAI risk tm:affectsComponent component, derived: some control mitigates the risk and applies
# to the component, leaving out universal controls (risks: all) and those for every component
# (components: all, the cosai importer's input ?control tm:appliesToAll true). The method names the
# controls in id order.
INSERT { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
  [] tm:linkGraph ?g ; tm:linkSubject ?risk ; tm:linkProperty tm:affectsComponent ;
     tm:linkTarget ?component ; tm:linkProvenance "derived" ; tm:sourceVersion ?version ;
     dcterms:source "cosai-risk-map/controls.yaml" ; tm:method ?method } }
WHERE {
  { SELECT ?g ?version ?risk ?component (GROUP_CONCAT(?control; SEPARATOR=", ") AS ?controls) WHERE {
      { SELECT ?g ?version ?risk ?component ?control WHERE {
          GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> { ?g tm:catalog "cosai" ; tm:sourceVersion ?version }
          GRAPH ?g {
            ?c a tm:CosaiControl ; dcterms:identifier ?control ; tm:mitigates ?risk ; tm:appliesTo ?component
            FILTER NOT EXISTS { ?c tm:universalControl true } }
          FILTER NOT EXISTS { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> { ?c tm:appliesToAll true } }
        } ORDER BY ?control }
    } GROUP BY ?g ?version ?risk ?component }
  BIND (CONCAT("a control mitigates the risk and applies to the component: ", ?controls) AS ?method)
}
