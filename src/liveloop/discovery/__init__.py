"""Discovery: the For You feed that mixes shoppable videos and live rooms for each viewer."""
