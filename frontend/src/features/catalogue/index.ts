export { CreateProductPage } from './components/CreateProductPage';
export { EditProductRoute } from './components/EditProductPage';
export { ProductListPage } from './components/ProductListPage';
