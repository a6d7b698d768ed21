"""MongoDB persistence: collections, indexes, repositories and the work queue.

Every driver call in the project lives in this package, so moving from motor to PyMongo's
``AsyncMongoClient`` is a one-folder change.
"""
