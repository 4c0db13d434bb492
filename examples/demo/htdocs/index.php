<?php
// relais demo: the start page, run by PHP behind relaisd (relaisd.conf hands
// *.php to the FastCGI socket of the "demo" pool of examples/demo/php-fpm.conf).
function h($s) { return htmlspecialchars((string)$s, ENT_QUOTES, 'UTF-8'); }
$pool = getenv('RELAIS_POOL');
// Who runs this script: the process manager is this process's parent
// (relais-fpm's children are its master's, as php-fpm's are).
$manager = @file_get_contents('/proc/' . posix_getppid() . '/cmdline');
$manager = $manager === false ? '(unknown)' : trim(str_replace("\0", ' ', $manager));
$user = function_exists('posix_getpwuid') ? (posix_getpwuid(posix_geteuid())['name'] ?? posix_geteuid()) : '?';
$opcache = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
$rows = [
    'Server (SERVER_SOFTWARE)' => $_SERVER['SERVER_SOFTWARE'] ?? '(not set)',
    'PHP SAPI'                 => php_sapi_name(),
    'Process manager'          => $manager,
    'Pool (RELAIS_POOL)'       => $pool === false ? '(not set)' : $pool,
    'Runs as user'             => $user,
    'PHP version'              => PHP_VERSION,
    'PHP process id'           => getmypid(),
    'Opcache'                  => $opcache && $opcache['opcache_enabled'] ? 'on' : 'off',
    'Script'                   => $_SERVER['SCRIPT_NAME'] ?? '',
];
?>
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>relais — PHP works</title>
  <link rel="stylesheet" href="/style.css">
  <link rel="icon" href="/relais.svg" type="image/svg+xml">
</head>
<body>
  <header>
    <img src="/relais.svg" alt="" width="72" height="72">
    <div>
      <h1>relais</h1>
      <p class="tagline">An Apache-compatible, event-driven web server, with a PHP-FPM-compatible process manager.</p>
    </div>
  </header>

  <main>
    <p class="ok">PHP works: relaisd handed <code>index.php</code> to the pool
      <code id="pool"><?= h($rows['Pool (RELAIS_POOL)']) ?></code> over FastCGI.</p>

    <table>
<?php foreach ($rows as $name => $value): ?>
      <tr><th scope="row"><?= h($name) ?></th><td><code><?= h($value) ?></code></td></tr>
<?php endforeach; ?>
    </table>

    <p>relaisd tells PHP it is <code>Apache</code>: applications look for that
      name (<code>ServerTokens Full</code> adds the version and
      <code>relais/0.1</code>). The pool name comes from
      <code>env[RELAIS_POOL] = $pool</code> in <code>examples/demo/php-fpm.conf</code>.</p>

    <p>The static start page is still there: <a href="/index.html">index.html</a>.
      The two daemons' status pages: relais-fpm's pool
      <a href="/fpm-status?full">/fpm-status</a> (also <a href="/fpm-status?json">json</a>,
      answered by the pool without PHP, as php-fpm's <code>pm.status_path</code>) and
      relaisd's <a href="/server-status">/server-status</a> (Apache's mod_status).</p>
  </main>

  <footer>relais · C17 · Linux · <a href="/index.html">static page</a></footer>
</body>
</html>
