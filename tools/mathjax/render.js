// Renders TeX with MathJax 3 (mathjax-full) and reports every error, for the test suite.
//
// stdin:  {"packages": [...], "probe": ["name", ...],
//          "jobs": [{"name": "X.ipynb", "preamble": ["\\newcommand..."],
//                    "expressions": [["tex", display], ...]}]}
// stdout: {"rendered": N, "errors": [{"name", "tex", "error"}], "standard": ["name", ...]}
//
// Each job gets a fresh TeX input, as a notebook opened alone would: its preamble (the
// notebook's macros cell) is typeset first, then its formulas. "probe" lists macro names
// to try with no definitions at all (AllPackages loaded): the ones MathJax already knows.
const { mathjax } = require('mathjax-full/js/mathjax.js');
const { TeX } = require('mathjax-full/js/input/tex.js');
const { SVG } = require('mathjax-full/js/output/svg.js');
const { liteAdaptor } = require('mathjax-full/js/adaptors/liteAdaptor.js');
const { RegisterHTMLHandler } = require('mathjax-full/js/handlers/html.js');
const { AllPackages } = require('mathjax-full/js/input/tex/AllPackages.js');

RegisterHTMLHandler(liteAdaptor());

function makeDocument(packages) {
  const tex = new TeX({
    packages,
    formatError: (jax, err) => { throw err; },
  });
  return mathjax.document('', { InputJax: tex, OutputJax: new SVG({ fontCache: 'none' }) });
}

function render(doc, tex, display) {
  try {
    doc.convert(tex, { display });
    return null;
  } catch (err) {
    return String(err.message || err);
  }
}

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const request = JSON.parse(input);
  const packages = request.packages || ['base', 'ams', 'newcommand', 'boldsymbol', 'configmacros'];
  const result = { rendered: 0, errors: [], standard: [] };
  for (const job of request.jobs || []) {
    const doc = makeDocument(packages);
    for (const tex of job.preamble || []) {
      const error = render(doc, tex, true);
      if (error) result.errors.push({ name: job.name, tex, error: 'macros cell: ' + error });
    }
    for (const [tex, display] of job.expressions || []) {
      const error = render(doc, tex, display);
      result.rendered += 1;
      if (error) result.errors.push({ name: job.name, tex, error });
    }
  }
  const bare = makeDocument(AllPackages.filter((p) => p !== 'noundefined' && p !== 'autoload'));
  for (const name of request.probe || []) {
    const error = render(bare, '\\' + name, false);
    if (!(error && error.includes('Undefined control sequence'))) result.standard.push(name);
  }
  process.stdout.write(JSON.stringify(result));
});
