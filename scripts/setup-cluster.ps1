#!/usr/bin/env pwsh
# Bootstraps the platform end to end: prerequisites, cdk bootstrap, cdk deploy --all, kubeconfig,
# wait for the ArgoCD root application, list nodes. --dry-run prints every step and runs none of them.
# Twin of scripts/setup-cluster.sh: keep the steps, flags and messages of both in step
# (tests/test_setup_scripts.py compares them). Flags are parsed from $args so both take the same
# GNU-style flags (--dry-run, --cluster-name NAME, ...), not PowerShell's -DryRun style.
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$RootApp = 'platform-root'
$RootAppNamespace = 'argocd'

$Usage = @'
Usage: scripts/setup-cluster.ps1 [--dry-run] [--cluster-name NAME] [--region REGION] [--timeout SECONDS] [--help]

Deploys the EKS platform into the AWS account of your current credentials, then waits for ArgoCD.
Steps: 1 check prerequisites, 2 npx cdk bootstrap, 3 npx cdk deploy --all --require-approval never,
       4 aws eks update-kubeconfig, 5 wait for ArgoCD application platform-root (Healthy and Synced),
       6 kubectl get nodes -L karpenter.sh/capacity-type

  --dry-run              print each step's exact command; call nothing (no AWS, no kubectl)
  --cluster-name NAME    default: cdk.json context cluster_name, else $CLUSTER_NAME, else eks-platform
  --region REGION        default: $AWS_REGION, else $CDK_DEFAULT_REGION, else cdk.json context region,
                         else us-east-1 (the same order the CDK app uses)
  --timeout SECONDS      how long to wait for platform-root (default 1800)
  -h, --help             show this help
Environment: RELEASE=seed|current selects the release profile (default: cdk.json context release).
Exit: 0 done, 1 a step failed or a prerequisite is missing, 2 bad usage.
'@

function Exit-Usage([string]$Message) {
    [Console]::Error.WriteLine("setup-cluster: error: $Message (see --help)")
    exit 2
}

$DryRun = $false
$ClusterName = ''
$Region = ''
$TimeoutS = 1800
$i = 0
while ($i -lt $args.Count) {
    $arg = [string]$args[$i]
    if ($arg -ceq '--dry-run') {
        $DryRun = $true
        $i += 1
    } elseif ($arg -ceq '--cluster-name' -or $arg -ceq '--region' -or $arg -ceq '--timeout') {
        if ($i + 1 -ge $args.Count -or [string]::IsNullOrEmpty([string]$args[$i + 1]) -or ([string]$args[$i + 1]).StartsWith('-')) {
            Exit-Usage "option '$arg' needs a value"
        }
        $value = [string]$args[$i + 1]
        if ($arg -ceq '--cluster-name') { $ClusterName = $value }
        elseif ($arg -ceq '--region') { $Region = $value }
        else {
            if ($value -notmatch '^[0-9]+$') {
                Exit-Usage "option '--timeout' needs a whole number of seconds, got '$value'"
            }
            $TimeoutS = [int]$value
        }
        $i += 2
    } elseif ($arg -ceq '-h' -or $arg -ceq '--help') {
        Write-Output $Usage
        exit 0
    } else {
        Exit-Usage "unknown option '$arg'"
    }
}

# Reads one key of cdk.json's "context"; returns '' when the file or the key is missing.
function Get-CdkContext([string]$Key) {
    $path = Join-Path $RepoRoot 'cdk.json'
    if (-not (Test-Path $path)) { return '' }
    try {
        $context = (Get-Content $path -Raw | ConvertFrom-Json).context
        if ($null -eq $context) { return '' }
        $prop = $context.PSObject.Properties[$Key]
        if ($null -eq $prop) { return '' }
        return [string]$prop.Value
    } catch {
        return ''
    }
}

if (-not $ClusterName) {
    $ClusterName = Get-CdkContext 'cluster_name'
    if (-not $ClusterName) { $ClusterName = $env:CLUSTER_NAME }
    if (-not $ClusterName) { $ClusterName = 'eks-platform' }
}
if (-not $Region) {
    $Region = $env:AWS_REGION
    if (-not $Region) { $Region = $env:CDK_DEFAULT_REGION }
    if (-not $Region) { $Region = Get-CdkContext 'region' }
    if (-not $Region) { $Region = 'us-east-1' }
}
# The CDK CLI, the app and the AWS CLI all read these, so every step targets the same region.
$env:AWS_REGION = $Region
$env:AWS_DEFAULT_REGION = $Region
$CdkCtx = @('-c', "cluster_name=$ClusterName", '-c', "region=$Region")
# RELEASE selects the release profile (as `make deploy RELEASE=seed` does); unset = cdk.json's `release`.
if ($env:RELEASE) { $CdkCtx += @('-c', "release=$($env:RELEASE)") }

function Get-InstallHint([string]$Tool) {
    switch ($Tool) {
        'aws' { 'install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html' }
        'kubectl' { 'install kubectl within one minor of the cluster (1.36 for release current, 1.29 for seed): https://kubernetes.io/docs/tasks/tools/ (make test also unpacks both into .tools/)' }
        'node' { 'install Node.js 20: https://nodejs.org/en/download' }
        'npx' { "it comes with npm: install Node.js 20 (https://nodejs.org/en/download), then run 'npm ci' in the repo" }
        'python3' { 'install Python 3.11: https://www.python.org/downloads/' }
    }
}

$script:StepNo = 0
function Write-Step([string]$Title) {
    $script:StepNo += 1
    Write-Output "==> Step $($script:StepNo)/6: $Title"
}

# Prints a command so it can be pasted into a shell: plain words bare, anything else in single quotes.
function Format-Command([string[]]$Command) {
    $words = foreach ($word in $Command) {
        if ($word -match '^[A-Za-z0-9_./:=@,+-]+$') { $word } else { "'" + ($word -replace "'", "''") + "'" }
    }
    return '+ ' + ($words -join ' ')
}

# Prints the exact command, then runs it unless this is a dry run.
function Invoke-Logged([string[]]$Command) {
    Write-Output (Format-Command $Command)
    if (-not $DryRun) {
        $rest = @($Command | Select-Object -Skip 1)
        & $Command[0] @rest
        if ($LASTEXITCODE -ne 0) { throw "setup-cluster: error: '$($Command -join ' ')' exited with $LASTEXITCODE" }
    }
}

Write-Output "setup-cluster: cluster=$ClusterName region=$Region dry-run=$($DryRun.ToString().ToLower())"

Write-Step 'check prerequisites (aws kubectl node npx python3, and the pinned CDK CLI)'
$missing = @()
foreach ($tool in @('aws', 'kubectl', 'node', 'npx', 'python3')) {
    if (Get-Command $tool -ErrorAction SilentlyContinue) {
        Write-Output "    found $tool"
    } else {
        $missing += $tool
        [Console]::Error.WriteLine("    MISSING ${tool}: $(Get-InstallHint $tool)")
    }
}
# npx would fetch an unpinned CLI when the project's pinned aws-cdk (package.json) is not installed.
$cdkBin = Join-Path $RepoRoot 'node_modules/.bin'
if ((Test-Path (Join-Path $cdkBin 'cdk')) -or (Test-Path (Join-Path $cdkBin 'cdk.cmd'))) {
    Write-Output '    found the pinned CDK CLI (node_modules/.bin/cdk)'
} else {
    $missing += 'cdk-cli'
    [Console]::Error.WriteLine("    MISSING the pinned CDK CLI (node_modules/.bin/cdk): run 'npm ci' in $RepoRoot")
}
if ($missing.Count -gt 0) {
    if ($DryRun) {
        [Console]::Error.WriteLine("setup-cluster: missing prerequisites: $($missing -join ' ') (dry run goes on; a real run stops here)")
    } else {
        [Console]::Error.WriteLine("setup-cluster: error: missing prerequisites: $($missing -join ' '); install them and run again")
        exit 1
    }
}

Set-Location $RepoRoot

Write-Step 'bootstrap the CDK environment'
Invoke-Logged (@('npx', 'cdk', 'bootstrap') + $CdkCtx)

Write-Step 'deploy every stack'
Invoke-Logged (@('npx', 'cdk', 'deploy', '--all', '--require-approval', 'never') + $CdkCtx)

Write-Step 'write the kubeconfig'
Invoke-Logged @('aws', 'eks', 'update-kubeconfig', '--name', $ClusterName, '--region', $Region)

Write-Step "wait for ArgoCD application $RootApp to be Healthy and Synced (timeout ${TimeoutS}s)"
$StatusCmd = @('kubectl', '-n', $RootAppNamespace, 'get', 'application', $RootApp, '-o', 'jsonpath={.status.health.status} {.status.sync.status}')
Write-Output '    (polled every 15s until it prints "Healthy Synced")'
Write-Output (Format-Command $StatusCmd)
if (-not $DryRun) {
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        # The Application may not exist yet right after deploy: treat that as "not ready", not as failure.
        $rest = @($StatusCmd | Select-Object -Skip 1)
        try {
            $status = & $StatusCmd[0] @rest 2>$null
            if ($LASTEXITCODE -ne 0) { $status = $null }
        } catch {
            # Windows PowerShell 5.1 turns a native command's stderr into a terminating error under 'Stop'.
            $status = $null
        }
        if (-not $status) { $status = 'Missing Unknown' }
        $health, $sync = ([string]$status).Trim() -split '\s+', 2
        $elapsed = [int]$watch.Elapsed.TotalSeconds
        Write-Output "    [${elapsed}s/${TimeoutS}s] ${RootApp}: health=$health sync=$sync"
        if ($health -eq 'Healthy' -and $sync -eq 'Synced') { break }
        if ($elapsed -ge $TimeoutS) {
            [Console]::Error.WriteLine("setup-cluster: error: $RootApp not Healthy and Synced after ${TimeoutS}s; inspect with: kubectl -n $RootAppNamespace get applications")
            exit 1
        }
        Start-Sleep -Seconds 15
    }
}

Write-Step 'show the nodes and their capacity type'
Invoke-Logged @('kubectl', 'get', 'nodes', '-L', 'karpenter.sh/capacity-type')

if ($DryRun) {
    Write-Output 'setup-cluster: dry run done; nothing was called'
} else {
    Write-Output 'setup-cluster: done'
}
