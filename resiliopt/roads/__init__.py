"""Road networks from outside: GraphML import (OSMnx style) and synthetic cities."""
