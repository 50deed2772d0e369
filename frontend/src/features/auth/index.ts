export { AdminArea } from './components/AdminArea';
export { LoginPage } from './components/LoginPage';
