"""Lambda handler sources the constructs ship inline (each file stays under CloudFormation's 4,096-byte ZipFile)."""
