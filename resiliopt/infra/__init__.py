"""Critical infrastructure: interdependent networks, damage, cascades and criticality.

``load_infra_case`` reads an interdependent case (layers, nodes, links, dependencies, geographic
spaces, repair resources, damage scenarios) into tidy tables (:mod:`resiliopt.case.infra`);
see docs/infra.md.
"""

from resiliopt.case.infra import InfraCase, load_infra_case
from resiliopt.case.paths import bundled_infra_cases, resolve_infra_case

__all__ = ["InfraCase", "bundled_infra_cases", "load_infra_case", "resolve_infra_case"]
