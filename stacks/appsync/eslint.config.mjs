/**
 * ESLint for the APPSYNC_JS resolver code only (the project's linter is Biome):
 * @aws-appsync/eslint-plugin's recommended rules, which need type information,
 * hence the TypeScript project service. Run by test/stacks/resolver-lint.test.ts.
 */
import appsync from '@aws-appsync/eslint-plugin';

export default [
  {
    files: ['**/*.js'],
    languageOptions: {
      parserOptions: {
        // The generated variants (`<file>.<operation>.js`) exist only in memory: the default project, the minimal
        // stacks/appsync/tsconfig.json (no Node types: what the code may call is APPSYNC_JS's).
        projectService: { allowDefaultProject: ['*.*.js'], defaultProject: 'tsconfig.json' },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  { files: ['**/*.js'], ...appsync.configs.recommended },
];
