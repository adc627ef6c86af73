"""The SimPy model: shared markets, one Site per site, a recorder, one replication at a time."""
