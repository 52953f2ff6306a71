#!/bin/sh
# jsii's Node for the CDK app (platform_config/node_runtime.py points JSII_NODE here when this Node accepts the
# flags): a synth's Node lives a few seconds, too short for V8's background work to pay for itself.
# --liftoff-only: aws-cdk-lib's CloudFormation validation engine is 9 MB of WebAssembly run once per synth; its
#   baseline code is enough, and the optimizing tier would spend a core compiling code the run ends before using.
# --single-threaded-gc: garbage collection without helper threads, which cost more CPU than they save here.
# Both keep the program's behaviour (same templates; the suite and its snapshots run through this script).
exec node --liftoff-only --single-threaded-gc "$@"
