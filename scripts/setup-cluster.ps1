#!/usr/bin/env pwsh
# Bootstraps the platform end to end: prerequisites, the project's venv (make deps), credentials, config,
# cdk bootstrap, cdk deploy --all, kubeconfig, wait for the ArgoCD root application, list nodes, then how to
# reach the cluster (the stacks' Outputs). --dry-run prints every step and runs only what needs no AWS.
# Twin of scripts/setup-cluster.sh: keep the steps, flags and messages of both in step
# (tests/test_setup_scripts.py compares them). Flags are parsed from $args so both take the same
# GNU-style flags (--dry-run, --cluster-name NAME, ...), not PowerShell's -DryRun style.
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$RootApp = 'platform-root'
$RootAppNamespace = 'argocd'

$Usage = @'
Usage: scripts/setup-cluster.ps1 [--dry-run] [--add-me] [--cluster-name NAME] [--region REGION] [--timeout SECONDS] [--help]

Deploys the EKS platform into the AWS account of your current credentials, then waits for ArgoCD.
Steps: 1 check prerequisites, 2 make deps (the project's .venv and pinned CDK CLI),
       3 aws sts get-caller-identity (credentials, region, target account),
       4 check the configuration (a Kubernetes version EKS still creates, admin access),
       5 npx cdk bootstrap, 6 npx cdk deploy --all --require-approval broadening,
       7 aws eks update-kubeconfig, 8 wait for ArgoCD application platform-root (Healthy and Synced),
       9 kubectl get nodes -L karpenter.sh/capacity-type; then the stacks' Outputs: how to reach everything

  --dry-run              print each step's exact command; run only what needs no AWS (the preflight, offline)
  --add-me               with no admin_principal_arns configured, add the deploying principal without asking
  --cluster-name NAME    default: cdk.json context cluster_name, else $CLUSTER_NAME, else eks-platform
  --region REGION        default: cdk.json context region, else us-east-1 (passed to cdk as -c region=);
                         an AWS_REGION or AWS_DEFAULT_REGION naming another region stops the script
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
$AddMe = $false
$ClusterName = ''
$Region = ''
$TimeoutS = 1800
$i = 0
while ($i -lt $args.Count) {
    $arg = [string]$args[$i]
    if ($arg -ceq '--dry-run') {
        $DryRun = $true
        $i += 1
    } elseif ($arg -ceq '--add-me') {
        $AddMe = $true
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
# One rule with make and the app: the configuration decides the region (--region, else cdk.json's `region`, else
# us-east-1); an AWS_REGION or AWS_DEFAULT_REGION naming another region stops here.
if (-not $Region) {
    $Region = Get-CdkContext 'region'
    if (-not $Region) { $Region = 'us-east-1' }
}
foreach ($variable in @('AWS_REGION', 'AWS_DEFAULT_REGION')) {
    $value = [Environment]::GetEnvironmentVariable($variable)
    if ($value -and $value -ne $Region) {
        [Console]::Error.WriteLine("setup-cluster: error: your environment sets $variable=$value but the configured region is $Region (--region, else cdk.json's region); the configuration decides the region, so both must agree: unset $variable, or pass --region $value with its availability_zones in cdk.json")
        exit 1
    }
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
        'node' { 'install Node.js 22 LTS: https://nodejs.org/en/download' }
        'npx' { 'it comes with npm: install Node.js 22 LTS (https://nodejs.org/en/download)' }
        'make' { 'install GNU make (Debian/Ubuntu: apt-get install make; macOS: xcode-select --install)' }
        'python3' { 'install Python 3.11: https://www.python.org/downloads/' }
    }
}

$script:StepNo = 0
function Write-Step([string]$Title) {
    $script:StepNo += 1
    Write-Output "==> Step $($script:StepNo)/9: $Title"
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

Write-Step 'check prerequisites (aws kubectl node npx python3 make)'
$missing = @()
foreach ($tool in @('aws', 'kubectl', 'node', 'npx', 'python3', 'make')) {
    if (Get-Command $tool -ErrorAction SilentlyContinue) {
        Write-Output "    found $tool"
    } else {
        $missing += $tool
        [Console]::Error.WriteLine("    MISSING ${tool}: $(Get-InstallHint $tool)")
    }
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

Write-Step 'prepare the project environment (make deps: .venv and the pinned CDK CLI)'
Invoke-Logged @('make', '-C', $RepoRoot, 'deps')
# The project's venv first on PATH (cdk.json runs `python3 app.py`); never the user's global python.
$VenvBin = Join-Path $RepoRoot '.venv/bin'
if (Test-Path (Join-Path $RepoRoot '.venv/Scripts')) { $VenvBin = Join-Path $RepoRoot '.venv/Scripts' }
$env:PATH = "$VenvBin$([IO.Path]::PathSeparator)$env:PATH"
$env:JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION = '20'
$env:CDK_DISABLE_VERSION_CHECK = '1'
$VenvPython = Join-Path $VenvBin 'python'
if (-not $DryRun -and -not (Get-Command $VenvPython -ErrorAction SilentlyContinue)) {
    [Console]::Error.WriteLine("setup-cluster: error: make deps did not create $VenvPython; run 'make deps' and read its error")
    exit 1
}

Write-Step 'check AWS credentials, region and target account'
$IdentityCmd = @('aws', 'sts', 'get-caller-identity', '--query', '[Account,Arn]', '--output', 'text')
Write-Output (Format-Command $IdentityCmd)
$CallerAccount = '<account>'
$CallerArn = '<your principal>'
if ($DryRun) {
    Write-Output '    credentials: not checked (dry run)'
} else {
    $rest = @($IdentityCmd | Select-Object -Skip 1)
    try {
        $out = & $IdentityCmd[0] @rest 2>&1
        $rc = $LASTEXITCODE
    } catch {
        # Windows PowerShell 5.1 turns a native command's stderr into a terminating error under 'Stop'.
        $out = @([string]$_)
        $rc = 1
    }
    if ($rc -ne 0) {
        [Console]::Error.WriteLine("setup-cluster: error: no usable AWS credentials: $(@($out)[0])")
        [Console]::Error.WriteLine("    Log in (aws sso login --profile NAME, or aws configure), check with 'aws sts get-caller-identity', run again.")
        exit 1
    }
    $CallerAccount, $CallerArn = ([string](@($out)[-1])).Trim() -split '\s+', 2
    Write-Output "    credentials: $CallerArn"
}
Write-Output "    region: $Region"
# The target account is cdk.json's (the credentials' when it holds the placeholder; <account> in a dry run).
$Configured = Get-CdkContext 'account'
$TargetAccount = $CallerAccount
if ($Configured -and $Configured -ne '111111111111') { $TargetAccount = $Configured }
Write-Output "    target account: $TargetAccount"
if (-not $DryRun -and $TargetAccount -ne $CallerAccount) {
    [Console]::Error.WriteLine("setup-cluster: error: cdk.json sets account $Configured but your credentials are for $CallerAccount; switch credentials (AWS_PROFILE) or fix cdk.json's account")
    exit 1
}

Write-Step 'check the configuration (a Kubernetes version EKS still creates, admin access)'
# Prints the target (account, region, AWS profile, cluster, stacks) before anything changes. A dry run runs it
# too, --offline (zones by region prefix only), with the system python3 when make deps has not run.
$PreflightCmd = @($VenvPython, 'scripts/preflight.py', '--script') + $CdkCtx
Write-Output (Format-Command $PreflightCmd)
$PreflightRun = $PreflightCmd
if ($DryRun) {
    if (-not (Get-Command $VenvPython -ErrorAction SilentlyContinue)) { $PreflightRun = @('python3') + @($PreflightCmd | Select-Object -Skip 1) }
    $PreflightRun += @('--offline')
    Write-Output '    (dry run: the same check --offline, no AWS call)'
}
if ($DryRun -and -not (Get-Command $PreflightRun[0] -ErrorAction SilentlyContinue)) {
    Write-Output '    (dry run: not checked, no python3; a real run stops at make deps)'
    $Admins = 'unknown'
} else {
    $rest = @($PreflightRun | Select-Object -Skip 1)
    $preflight = @(& $PreflightRun[0] @rest)
    if ($LASTEXITCODE -ne 0) {
        [Console]::Error.WriteLine('setup-cluster: error: the configuration cannot be deployed (see the line above); nothing was deployed')
        exit 1
    }
    $Admins = ([string]$preflight[-1]) -replace '^admin_principals=', ''
    $preflight | Select-Object -SkipLast 1 | Write-Output
}
if ($Admins -eq '0' -and $DryRun) {
    Write-Output '    admin_principal_arns is empty: a real run offers the deploying principal (--add-me accepts it)'
} elseif ($Admins -eq '0') {
    # The cluster gives its creator no admin: without an access entry nobody can use kubectl.
    $Principal = ''
    if ($CallerArn -match '^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/') { $Principal = "arn:$($Matches[1]):iam::$($Matches[2]):role/$($Matches[3])" }
    elseif ($CallerArn -match '^arn:([^:]+):iam::(\d{12}):(role/.+)$') { $Principal = $CallerArn }
    Write-Output '    admin_principal_arns is empty: nobody would be able to use kubectl on the cluster'
    if (-not $Principal) {
        [Console]::Error.WriteLine("setup-cluster: error: cannot derive an IAM role from $CallerArn; admin access entries accept IAM roles only: deploy through a role (aws sso login, or assume one) or set admin_principal_arns to a role ARN")
        exit 1
    }
    $answer = 'n'
    if ($AddMe) { $answer = 'y' }
    elseif (-not [Console]::IsInputRedirected) { $answer = Read-Host "    Add the deploying principal $Principal as cluster admin? [y/N]" }
    if ($answer -notmatch '^[yY]') {
        [Console]::Error.WriteLine('setup-cluster: error: no admin principal; set admin_principal_arns in cdk.json or run with --add-me')
        exit 1
    }
    $CdkCtx += @('-c', "admin_principal_arns=$Principal")
    Write-Output "    adding: -c admin_principal_arns=$Principal"
}

Write-Step 'bootstrap the CDK environment'
Invoke-Logged (@('npx', 'cdk', 'bootstrap', "aws://$TargetAccount/$Region") + $CdkCtx)

Write-Step 'deploy every stack'
# broadening: CloudFormation changes that widen IAM or security groups wait for your yes.
$OutputsFile = 'cdk.out/outputs.json'
Invoke-Logged (@('npx', 'cdk', 'deploy', '--all', '--require-approval', 'broadening', '--outputs-file', $OutputsFile) + $CdkCtx)

Write-Step 'write the kubeconfig'
Invoke-Logged @('aws', 'eks', 'update-kubeconfig', '--name', $ClusterName, '--region', $Region)

Write-Step "wait for ArgoCD application $RootApp to be Healthy and Synced (timeout ${TimeoutS}s)"
$StatusCmd = @('kubectl', '-n', $RootAppNamespace, 'get', 'application', $RootApp, '-o', 'jsonpath={.status.health.status} {.status.sync.status}')
Write-Output '    (polled every 15s until it prints "Healthy Synced")'
Write-Output (Format-Command $StatusCmd)
if (-not $DryRun) {
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        # The Application may not exist yet right after deploy (NotFound: not ready yet); any other kubectl
        # error is shown, and the ones that will not heal by waiting stop the script with what to do.
        $rest = @($StatusCmd | Select-Object -Skip 1)
        $status = $null
        try {
            $answer = & $StatusCmd[0] @rest 2>&1
            if ($LASTEXITCODE -eq 0) { $status = [string]$answer } else { $problem = [string](@($answer)[0]) }
        } catch {
            # Windows PowerShell 5.1 turns a native command's stderr into a terminating error under 'Stop'.
            $problem = [string]$_
        }
        if (-not $status) {
            $status = 'Missing Unknown'
            if ($problem -match 'Unauthorized|Forbidden|must be logged in|provide credentials') {
                [Console]::Error.WriteLine("setup-cluster: error: kubectl was refused: $problem")
                [Console]::Error.WriteLine('    Your principal has no access entry on the cluster: add it to admin_principal_arns (cdk.json or --add-me) and deploy again.')
                exit 1
            } elseif ($problem -match 'i/o timeout|no such host|connection refused|Unable to connect') {
                [Console]::Error.WriteLine("setup-cluster: error: the cluster API endpoint is unreachable: $problem")
                [Console]::Error.WriteLine('    With endpoint_access=private kubectl works only from inside the VPC: see docs/runbook.md (Private endpoint access), or use public_and_private with your public_access_cidrs.')
                exit 1
            } elseif ($problem -notmatch 'NotFound|not found') {
                Write-Output "    kubectl: $problem"
            }
        }
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

Write-Output "==> How to reach the cluster, Argo CD and Grafana (the stacks' Outputs, also in $OutputsFile):"
if ($DryRun) {
    Write-Output '    (after a real run: ClusterName, Region, UpdateKubeconfigCommand, InterruptionQueueName,'
    Write-Output '     ArgoCdPortForward, GrafanaPortForward; passwords: README, Day-one access)'
    Write-Output 'setup-cluster: dry run done; nothing that needs AWS was called'
} else {
    if (Test-Path $OutputsFile) {
        $outputs = Get-Content $OutputsFile -Raw | ConvertFrom-Json
        foreach ($stack in ($outputs.PSObject.Properties | Sort-Object Name)) {
            foreach ($output in $stack.Value.PSObject.Properties) {
                if (-not $output.Name.StartsWith('ExportsOutput')) { Write-Output "    $($output.Name): $($output.Value)" }
            }
        }
    } else {
        Write-Output "    ($OutputsFile is missing: read the Outputs of each stack in the CloudFormation console)"
    }
    Write-Output 'setup-cluster: done'
}
