"""Custom resource: the default EKS add-on versions for a Kubernetes version, from eks:DescribeAddonVersions."""

import json
import logging
import urllib.request


def attribute(addon):
    """The GetAtt name of an add-on's resolved version (PascalCase of its name)."""
    return "".join(part.capitalize() for part in addon.split("-"))


def default_version(eks, addon, kubernetes):
    """The version EKS marks default for `kubernetes`; LookupError naming both when there is none."""
    pages = eks.get_paginator("describe_addon_versions")
    for page in pages.paginate(addonName=addon, kubernetesVersion=kubernetes):
        for found in page.get("addons", []):
            for version in found.get("addonVersions", []):
                for compat in version.get("compatibilities", []):
                    if compat.get("clusterVersion") == kubernetes and compat.get("defaultVersion") is True:
                        return version["addonVersion"]
    raise LookupError(
        f"EKS names no default version of add-on {addon} for Kubernetes {kubernetes} "
        "(eks:DescribeAddonVersions); pin one in platform_config/versions.py EKS_ADDONS"
    )


def resolve(eks, properties):
    """{GetAtt name: version} for every add-on in the resource's properties."""
    kubernetes = properties["KubernetesVersion"]
    return {attribute(a): default_version(eks, a, kubernetes) for a in properties["Addons"]}


def respond(event, status, data, reason=""):
    body = {
        "Status": status,
        "Reason": reason or "see the function's log group",
        "PhysicalResourceId": event.get("PhysicalResourceId") or "addon-versions",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data,
    }
    request = urllib.request.Request(
        event["ResponseURL"], data=json.dumps(body).encode(), method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def handler(event, context, eks=None):
    data, status, reason = {}, "SUCCESS", ""
    try:
        if event["RequestType"] != "Delete":  # nothing to clean up: the lookup creates nothing
            if eks is None:
                import boto3

                eks = boto3.client("eks")
            data = resolve(eks, event["ResourceProperties"])
    except Exception as err:  # CloudFormation must hear back, or the stack waits an hour
        status, reason = "FAILED", f"{type(err).__name__}: {err}"
        logging.getLogger().error(reason)
    respond(event, status, data, reason)
