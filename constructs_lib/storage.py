"""Gp3StorageClass: the default StorageClass is encrypted gp3 through the EBS CSI driver."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

NAME = "gp3"


def gp3_storage_class() -> dict[str, Any]:
    """Encrypted gp3, bound where the pod lands (zonal volumes), expandable, deleted with its claim."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": NAME, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true", "fsType": "ext4"},
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
        "reclaimPolicy": "Delete",
    }


class Gp3StorageClass(Construct):
    """Exposes `resource` (the KubernetesManifest)."""

    def __init__(self, scope: Construct, id_: str, *, cluster: eks.ICluster) -> None:
        super().__init__(scope, id_)
        self.resource = eks.KubernetesManifest(self, "Manifest", cluster=cluster, manifest=[gp3_storage_class()])
