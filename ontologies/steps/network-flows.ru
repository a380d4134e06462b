# A flow is network traffic unless a person sends it to the device they use (a user typing into
# an app): only flows between machines travel where others can read or alter them.
# (The absence of a person at the source is closed-world, outside OWL 2 RL: a step, for both engines.)
INSERT { ?flow a tm:NetworkFlow }
WHERE {
  ?flow a tm:DataFlow ; tm:source ?source .
  FILTER NOT EXISTS { ?source a/rdfs:subClassOf* tm:User }
}
