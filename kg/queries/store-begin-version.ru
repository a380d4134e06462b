# Announce a version before its graphs are uploaded: if the upload dies, the next one finds and drops them.
INSERT DATA { GRAPH <https://w3id.org/threatkg/graph/registry> {
  $version a tm:ModelVersion ; tm:versionOf $system ; dcterms:created $created ;
    tm:sourceName $sourceName ; tm:sourceText $sourceText ;
    tm:modelGraph $model ; tm:dataGraph $model, $inferred, $ontology .
} }
