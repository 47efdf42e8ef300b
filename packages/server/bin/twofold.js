#!/usr/bin/env node
// Kept outside dist/ so the npm bin link exists before the first build.
import "../dist/main.js";
