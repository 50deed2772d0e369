export { AccountsRoute } from './components/AccountsPage';
