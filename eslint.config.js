// ESLint (flat config) with typescript-eslint's type-aware rules for the bugs a type checker
// alone lets through: promises nobody awaits or whose rejection nobody handles, and promises
// passed where a plain callback is expected. Test files are linted and type-checked too
// (tsconfig.lint.json covers test/). Import directions are checked by dependency-cruiser
// (.dependency-cruiser.cjs); `npm run lint` runs both.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', '**/dist/**', 'node_modules/**', 'coverage/**', '.tap/**', '.lgsp/**', 'services/console/ui/**', 'test/bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.lint.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // tap tracks its subtests' promises itself (a failure fails the file), so a bare
      // t.test(...) is not a floating promise; everything else must be awaited or handled.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      // tsc's noUnusedLocals reports unused code; `_`-prefixed parameters are deliberate.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Non-null assertions after a check the compiler cannot follow are idiomatic here.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A `let` read by a callback (signal handler, teardown) before its one assignment is not a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests read JSON responses field by field; typing every body would add noise, not safety.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      // A loaded broker answers UNKNOWN_TOPIC_OR_PARTITION for a moment after creating a topic,
      // and createTopics({ waitForLeaders }) throws it: three tests failed on it in CI, one by one.
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='createTopics']",
          message: 'Create topics with ensureTopics (services/platform/kafka-transport.ts), which waits until the broker knows them.',
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', module: 'writable', require: 'readonly' } },
  },
);
