"""Graph analytics: projections, centrality, instruction chains, paths.

Pure functions of a :class:`~graph_service.analytics.projection.Projection` (or of the
indexes derived from one); the only storage they know is the store protocol, used by
:mod:`graph_service.analytics.projection` to build projections.
"""
