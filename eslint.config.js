import tagi from '@tagi/eslint-config';

export default tagi;
