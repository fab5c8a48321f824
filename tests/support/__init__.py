"""What the tests share: actors that play the browser and the phone over the public HTTP
contract only (API.md), and a real server process."""
