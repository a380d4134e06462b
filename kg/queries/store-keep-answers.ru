# Keep a version's answers (its assessment: JSON, zlib-compressed, in base64), replacing those of an earlier release or build.
DELETE WHERE { GRAPH <https://w3id.org/threatkg/graph/registry> { $version tm:answers ?text } } ;
DELETE WHERE { GRAPH <https://w3id.org/threatkg/graph/registry> { $version tm:answersUnder ?release } } ;
DELETE WHERE { GRAPH <https://w3id.org/threatkg/graph/registry> { $version tm:answersBuild ?build } } ;
INSERT DATA { GRAPH <https://w3id.org/threatkg/graph/registry> {
  $version tm:answers $text ; tm:answersUnder $release ; tm:answersBuild $build } }
