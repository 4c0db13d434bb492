<?php
// tests/interop: prints what PHP (behind a FastCGI client) was given, as JSON.
//   server   $_SERVER as php-fpm built it: the FastCGI params AFTER php-fpm's
//            own fix-ups (cgi.fix_pathinfo, "proxy:fcgi://" stripping, ...)
//   sapi     php_sapi_name() ("fpm-fcgi")
//   euid     the uid the PHP worker runs as (null without ext/posix)
//   file     __FILE__ (the script php-fpm really ran)
//   cwd      getcwd()
//   input    length and md5 of the request body (php://input)
//   get      $_GET
$in = file_get_contents('php://input');
header('Content-Type: application/json');
echo json_encode([
    'server' => $_SERVER,
    'sapi'   => php_sapi_name(),
    'euid'   => function_exists('posix_geteuid') ? posix_geteuid() : null,
    'file'   => __FILE__,
    'cwd'    => getcwd(),
    'input'  => ['length' => strlen($in), 'md5' => md5($in)],
    'get'    => $_GET,
], JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR), "\n";
