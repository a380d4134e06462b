"""Systems kept in a store, above the store backends (kg.store) and the assessment: their versions
(added atomically, with their answers), the catalog release pushed to a store, and the questions
asked across every system."""
