"""``src/minilogin/static/package.json``: the SDK as an npm package, so that a bundler takes it
from the repository (``npm install <path to the folder>``, or the tarball ``npm pack`` makes of
it). A project that installs it imports ``minilogin`` by name and finds the types; the package's
version is the Python package's."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

from minilogin import __version__

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "src" / "minilogin" / "static"
NPM = shutil.which("npm")
TSC = ROOT / "tests" / "js" / "typecheck" / "node_modules" / ".bin" / "tsc"
TSC_OPTIONS = ["--noEmit", "--strict", "--module", "nodenext", "--target", "es2022"]
TSC_OPTIONS += ["--lib", "es2022,dom", "--skipLibCheck", "false"]
# A shop's page using the SDK as the README shows; TypeScript checks it against the types.
GOOD = """
import { MiniLogin, MiniLoginError, type LoginResult } from 'minilogin';
const ml = new MiniLogin({ issuer: 'https://login.example.com/pools/acme', clientId: 'web' });
const result: LoginResult = await ml.startScanning('#qrcode', {
  size: 240, autoRefresh: true, onScanned: (status) => console.log(status.status),
});
const phone: string | undefined = result.user.phone_number;
await ml.loginWithPopup({ redirectUri: 'https://shop.example.com/cb', timeoutInSeconds: 60 });
const element = document.querySelector('minilogin-login');
element?.addEventListener('login', (event) => console.log(event.detail.accessToken));
console.log(phone, new MiniLoginError('x').code);
"""
# The same with mistakes a compiler must catch: an option that doesn't exist, a wrong type.
BAD = """
import { MiniLogin } from 'minilogin';
const ml = new MiniLogin({ issuer: 'https://login.example.com/pools/acme', clientid: 'web' });
const size: string = (await ml.startScanning('#qrcode')).expiresAt;
"""
OFFLINE = ["--offline", "--no-audit", "--no-fund", "--loglevel=error"]


def test_the_package_version_is_the_python_packages() -> None:
    package = json.loads((SDK / "package.json").read_text())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert package["version"] == pyproject["project"]["version"] == __version__
    assert package["types"] == "./minilogin.d.ts"
    assert package["exports"]["."] == {"types": "./minilogin.d.ts", "default": "./minilogin.js"}


def test_a_project_installs_the_sdk_and_imports_it_by_name(tmp_path: Path) -> None:
    assert NPM is not None, "npm is missing: run make install-test"
    packed = subprocess.run(
        [NPM, "pack", str(SDK), "--pack-destination", str(tmp_path), "--json", *OFFLINE],
        capture_output=True,
        text=True,
        check=True,
    )
    tarball = json.loads(packed.stdout)[0]
    assert {entry["path"] for entry in tarball["files"]} == {
        "package.json",
        "minilogin.js",
        "minilogin.d.ts",
    }
    project = tmp_path / "shop"
    project.mkdir()
    (project / "package.json").write_text('{"name": "shop", "private": true, "type": "module"}')
    subprocess.run(
        [NPM, "install", str(tmp_path / tarball["filename"]), *OFFLINE],
        cwd=project,
        capture_output=True,
        check=True,
    )
    script = """
      import { MiniLogin, MiniLoginError, createPkcePair } from 'minilogin';
      const issuer = 'https://login.example.com/pools/acme/';
      const ml = new MiniLogin({ issuer, clientId: 'web' });
      const { challenge } = await createPkcePair();
      const { readFileSync } = await import('node:fs');
      const manifest = new URL(import.meta.resolve('minilogin/package.json'));
      const installed = JSON.parse(readFileSync(manifest));
      console.log(JSON.stringify({
        issuer: ml.issuer, error: new MiniLoginError('x') instanceof Error,
        challenge: challenge.length, resolved: import.meta.resolve('minilogin'),
        types: installed.types, version: installed.version,
      }));
    """
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(result.stdout)
    assert seen["issuer"] == "https://login.example.com/pools/acme"
    assert seen["error"] is True
    assert seen["challenge"] == 43
    assert seen["resolved"].endswith("/node_modules/minilogin/minilogin.js")
    assert seen["version"] == __version__
    installed = project / "node_modules" / "minilogin"
    assert (installed / seen["types"]).read_bytes() == (SDK / "minilogin.d.ts").read_bytes()


def test_the_types_check_a_project_that_uses_the_sdk(tmp_path: Path) -> None:
    assert NPM is not None, "npm is missing: run make install-test"
    assert TSC.exists(), "TypeScript is missing: run make install-test"
    project = tmp_path / "shop"
    project.mkdir()
    (project / "package.json").write_text('{"name": "shop", "private": true, "type": "module"}')
    subprocess.run(
        [NPM, "install", str(SDK), *OFFLINE], cwd=project, capture_output=True, check=True
    )
    (project / "good.ts").write_text(GOOD)
    (project / "bad.ts").write_text(BAD)
    good = subprocess.run(
        [str(TSC), *TSC_OPTIONS, "good.ts"], cwd=project, capture_output=True, text=True
    )
    assert good.returncode == 0, good.stdout
    bad = subprocess.run(
        [str(TSC), *TSC_OPTIONS, "bad.ts"], cwd=project, capture_output=True, text=True
    )
    assert "'clientid' does not exist" in bad.stdout, bad.stdout
    assert "bad.ts(4,7): error TS2322" in bad.stdout, bad.stdout
