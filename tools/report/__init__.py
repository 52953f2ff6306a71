"""Reports: each reads the code, an assembly or a cluster and prints (or checks) what it finds; writes no source."""
